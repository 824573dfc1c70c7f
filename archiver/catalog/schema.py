"""Versioned schema migrations. Append a new entry for every change; never edit an applied one."""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "seeds, jobs, warc files, captures",
        """
        CREATE TABLE seeds (
            id            INTEGER PRIMARY KEY,
            url           TEXT NOT NULL UNIQUE,
            category      TEXT NOT NULL,
            scope         TEXT NOT NULL,
            depth         INTEGER,
            robots        TEXT NOT NULL,
            risk          TEXT NOT NULL,
            note          TEXT NOT NULL DEFAULT '',
            nominated_by  TEXT NOT NULL DEFAULT '',
            added_at      TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            removed_at    TEXT
        );
        CREATE TABLE seed_tags (
            seed_id  INTEGER NOT NULL REFERENCES seeds(id),
            tag      TEXT NOT NULL COLLATE NOCASE,
            PRIMARY KEY (seed_id, tag)
        );
        CREATE TABLE jobs (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            status      TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            ended_at    TEXT,
            settings    TEXT NOT NULL,
            seed_ids    TEXT NOT NULL,
            finish_reason TEXT,
            captured    INTEGER,
            truncated   INTEGER,
            failed      INTEGER,
            warc_files  INTEGER,
            warc_bytes  INTEGER
        );
        CREATE TABLE warc_files (
            name            TEXT PRIMARY KEY,
            job_id          INTEGER NOT NULL REFERENCES jobs(id),
            state           TEXT NOT NULL CHECK (state IN ('open', 'closed', 'stored')),
            spool_path      TEXT NOT NULL,
            store_uri       TEXT,
            storage_key     TEXT,
            storage_uri     TEXT,
            size            INTEGER,
            sha256          TEXT,
            warcinfo_id     TEXT NOT NULL,
            warcinfo_length INTEGER NOT NULL,
            created_at      TEXT NOT NULL,
            closed_at       TEXT,
            stored_at       TEXT,
            version_id      TEXT,
            etag            TEXT
        );
        CREATE TABLE captures (
            id               TEXT PRIMARY KEY,
            url              TEXT NOT NULL,
            final_url        TEXT,
            surt             TEXT NOT NULL,
            seed_id          INTEGER REFERENCES seeds(id),
            job_id           INTEGER NOT NULL REFERENCES jobs(id),
            kind             TEXT NOT NULL,
            hops             INTEGER,
            via              TEXT,
            captured_at      TEXT NOT NULL,
            state            TEXT NOT NULL CHECK (state IN ('ok', 'truncated', 'failed')),
            truncated        TEXT,
            error            TEXT,
            http_status      INTEGER,
            mime             TEXT,
            size             INTEGER,
            title            TEXT,
            payload_digest   TEXT,
            record_digest    TEXT,
            record_id        TEXT,
            warc_file        TEXT REFERENCES warc_files(name),
            warc_offset      INTEGER,
            warc_length      INTEGER,
            request_offset   INTEGER,
            request_length   INTEGER,
            metadata_offset  INTEGER,
            metadata_length  INTEGER,
            ip_address       TEXT,
            software         TEXT NOT NULL,
            user_agent       TEXT,
            robots           TEXT
        );
        CREATE INDEX captures_url ON captures(url, captured_at);
        CREATE INDEX captures_surt ON captures(surt, captured_at);
        CREATE INDEX captures_seed ON captures(seed_id, captured_at);
        CREATE INDEX captures_job ON captures(job_id);
        """,
    ),
    (
        2,
        "crawl frontier, for resuming a job",
        """
        CREATE TABLE frontier (
            id         INTEGER PRIMARY KEY,
            job_id     INTEGER NOT NULL REFERENCES jobs(id),
            url        TEXT NOT NULL,
            seed_id    INTEGER,
            kind       TEXT NOT NULL,
            hops       INTEGER NOT NULL,
            via        TEXT,
            embeds     INTEGER NOT NULL DEFAULT 0,
            redirects  INTEGER NOT NULL DEFAULT 0,
            done       INTEGER NOT NULL DEFAULT 0,
            UNIQUE (job_id, url)
        );
        """,
    ),
    (
        3,
        "fixity audits, CDXJ indexes beside WARC files",
        """
        ALTER TABLE warc_files ADD COLUMN index_uri TEXT;
        CREATE TABLE audits (
            id           INTEGER PRIMARY KEY,
            started_at   TEXT NOT NULL,
            ended_at     TEXT NOT NULL,
            scope        TEXT NOT NULL,
            checked      INTEGER NOT NULL,
            ok           INTEGER NOT NULL,
            failed       INTEGER NOT NULL,
            failures     TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        "what a page says about itself: site name, publication date",
        """
        ALTER TABLE captures ADD COLUMN site_name TEXT;
        ALTER TABLE captures ADD COLUMN published TEXT;
        """,
    ),
    (
        5,
        "recapture: revisits and validators; schedules; seed status timeline; events",
        """
        ALTER TABLE captures ADD COLUMN record_type TEXT NOT NULL DEFAULT 'response';
        ALTER TABLE captures ADD COLUMN revisit_of TEXT;
        ALTER TABLE captures ADD COLUMN etag TEXT;
        ALTER TABLE captures ADD COLUMN last_modified TEXT;
        CREATE TABLE schedules (
            id          INTEGER PRIMARY KEY,
            seed_id     INTEGER REFERENCES seeds(id),
            tag         TEXT COLLATE NOCASE,
            every_s     INTEGER,
            rrule       TEXT,
            ladder      TEXT,
            created_at  TEXT NOT NULL,
            CHECK ((seed_id IS NULL) != (tag IS NULL)),
            CHECK ((every_s IS NULL) != (rrule IS NULL))
        );
        CREATE UNIQUE INDEX schedules_seed ON schedules(seed_id) WHERE seed_id IS NOT NULL;
        CREATE UNIQUE INDEX schedules_tag ON schedules(tag) WHERE tag IS NOT NULL;
        CREATE TABLE seed_status (
            id          INTEGER PRIMARY KEY,
            seed_id     INTEGER NOT NULL REFERENCES seeds(id),
            capture_id  TEXT NOT NULL REFERENCES captures(id),
            observed_at TEXT NOT NULL,
            status      TEXT NOT NULL,
            reason      TEXT NOT NULL DEFAULT '',
            confirmed   INTEGER NOT NULL,
            confirms    INTEGER REFERENCES seed_status(id)
        );
        CREATE INDEX seed_status_seed ON seed_status(seed_id, id);
        CREATE TABLE events (
            id            INTEGER PRIMARY KEY,
            seed_id       INTEGER NOT NULL REFERENCES seeds(id),
            url           TEXT NOT NULL,
            kind          TEXT NOT NULL,
            reason        TEXT NOT NULL DEFAULT '',
            previous      TEXT NOT NULL,
            last_present  TEXT REFERENCES captures(id),
            first_absent  TEXT NOT NULL REFERENCES captures(id),
            confirmed_by  TEXT NOT NULL REFERENCES captures(id),
            confirmed_at  TEXT NOT NULL
        );
        CREATE INDEX events_time ON events(confirmed_at);
        CREATE INDEX captures_job_file ON captures(job_id, warc_file, warc_offset);
        """,
    ),
    (
        6,
        "browser capture: seeds that need a browser; capture quality; screenshot and DOM",
        """
        ALTER TABLE seeds ADD COLUMN browser INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE captures ADD COLUMN quality TEXT;
        ALTER TABLE captures ADD COLUMN quality_reason TEXT;
        CREATE TABLE capture_resources (
            capture_id     TEXT NOT NULL REFERENCES captures(id),
            kind           TEXT NOT NULL,
            target_uri     TEXT NOT NULL,
            record_id      TEXT NOT NULL,
            content_type   TEXT NOT NULL,
            size           INTEGER NOT NULL,
            payload_digest TEXT NOT NULL,
            record_digest  TEXT NOT NULL,
            warc_file      TEXT NOT NULL REFERENCES warc_files(name),
            warc_offset    INTEGER NOT NULL,
            warc_length    INTEGER NOT NULL,
            PRIMARY KEY (capture_id, kind)
        );
        """,
    ),
    (
        7,
        "seed include/exclude regexes; links not followed (excluded or trapped), by reason",
        """
        ALTER TABLE seeds ADD COLUMN include TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE seeds ADD COLUMN exclude TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE rejected (
            job_id   INTEGER NOT NULL REFERENCES jobs(id),
            url      TEXT NOT NULL,
            seed_id  INTEGER,
            via      TEXT,
            reason   TEXT NOT NULL,
            rule     TEXT NOT NULL,
            PRIMARY KEY (job_id, url)
        );
        CREATE INDEX rejected_reason ON rejected(job_id, reason);
        """,
    ),
    (
        8,
        "hop paths (L, E, R letters from the seed) on frontier entries and captures",
        """
        ALTER TABLE frontier ADD COLUMN hop_path TEXT;
        ALTER TABLE captures ADD COLUMN hop_path TEXT;
        """,
    ),
    (
        9,
        "a frontier shared by workers: URL and host leases, host politeness, workers",
        """
        ALTER TABLE frontier ADD COLUMN host TEXT;
        ALTER TABLE frontier ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE frontier ADD COLUMN lease_token TEXT;
        ALTER TABLE frontier ADD COLUMN lease_until DOUBLE PRECISION;
        ALTER TABLE frontier ADD COLUMN worker TEXT;
        ALTER TABLE frontier ADD COLUMN error TEXT;
        CREATE INDEX frontier_todo ON frontier(job_id, host, id) WHERE done = 0;
        CREATE INDEX frontier_lease ON frontier(lease_token) WHERE lease_token IS NOT NULL;
        CREATE TABLE crawl_hosts (
            host         TEXT NOT NULL,
            slot         INTEGER NOT NULL DEFAULT 0,
            next_fetch   DOUBLE PRECISION NOT NULL DEFAULT 0,
            lease_token  TEXT,
            lease_until  DOUBLE PRECISION,
            worker       TEXT,
            job_id       INTEGER,
            PRIMARY KEY (host, slot)
        );
        CREATE INDEX crawl_hosts_due ON crawl_hosts(next_fetch);
        CREATE TABLE job_robots (
            job_id      INTEGER NOT NULL REFERENCES jobs(id),
            netloc      TEXT NOT NULL,
            body        TEXT NOT NULL,
            fetched_at  DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (job_id, netloc)
        );
        CREATE TABLE workers (
            id            TEXT PRIMARY KEY,
            hostname      TEXT NOT NULL,
            pid           INTEGER NOT NULL,
            job           TEXT,
            state         TEXT NOT NULL,
            started_at    DOUBLE PRECISION NOT NULL,
            heartbeat_at  DOUBLE PRECISION NOT NULL,
            fetched       INTEGER NOT NULL DEFAULT 0,
            reason        TEXT
        );
        """,
    ),
    (
        10,
        "proof of time: a line per stored WARC file in the evidence manifest of its job, the"
        " manifests timestamped, and the RFC 3161 timestamps",
        """
        ALTER TABLE warc_files ADD COLUMN first_date TEXT;
        ALTER TABLE warc_files ADD COLUMN last_date TEXT;
        CREATE TABLE manifest_lines (
            id          INTEGER PRIMARY KEY,
            job_id      INTEGER NOT NULL REFERENCES jobs(id),
            warc_file   TEXT NOT NULL UNIQUE REFERENCES warc_files(name),
            line        TEXT NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX manifest_lines_job ON manifest_lines(job_id, id);
        CREATE TABLE manifests (
            id           INTEGER PRIMARY KEY,
            job_id       INTEGER NOT NULL REFERENCES jobs(id),
            number       INTEGER NOT NULL,
            body         TEXT NOT NULL,
            sha256       TEXT NOT NULL,
            lines        INTEGER NOT NULL,
            created_at   TEXT NOT NULL,
            storage_uri  TEXT,
            UNIQUE (job_id, number)
        );
        CREATE TABLE timestamps (
            id           INTEGER PRIMARY KEY,
            manifest_id  INTEGER NOT NULL REFERENCES manifests(id),
            authority    TEXT NOT NULL,
            state        TEXT NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            last_error   TEXT,
            gen_time     TEXT,
            serial       TEXT,
            policy       TEXT,
            nonce        TEXT,
            token        TEXT,
            chain        TEXT,
            token_uri    TEXT,
            chain_uri    TEXT,
            created_at   TEXT NOT NULL,
            stamped_at   TEXT,
            UNIQUE (manifest_id, authority)
        );
        """,
    ),
    (
        11,
        "who served each capture: TLS version, cipher suite, certificate and its verification",
        """
        CREATE TABLE capture_tls (
            capture_id    TEXT PRIMARY KEY REFERENCES captures(id),
            protocol      TEXT,
            cipher_suite  TEXT,
            subject_host  TEXT,
            issuer        TEXT,
            verification  TEXT NOT NULL,
            leaf_sha256   TEXT,
            record_id     TEXT NOT NULL,
            warc_file     TEXT NOT NULL REFERENCES warc_files(name),
            warc_offset   INTEGER NOT NULL,
            warc_length   INTEGER NOT NULL
        );
        """,
    ),
    (
        12,
        "indexes for the web view: captures newest first, observations and events by capture",
        """
        CREATE INDEX captures_time ON captures(captured_at, id);
        CREATE INDEX seed_status_capture ON seed_status(capture_id);
        CREATE INDEX events_first_absent ON events(first_absent);
        """,
    ),
    (
        13,
        "vantage points: named proxies a capture is fetched through (passwords by reference)",
        """
        CREATE TABLE vantages (
            name        TEXT PRIMARY KEY,
            kind        TEXT NOT NULL
                        CHECK (kind IN ('http', 'https', 'socks5', 'socks5h', 'tor')),
            proxy       TEXT NOT NULL,
            country     TEXT,
            note        TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL
        );
        """,
    ),
    (
        14,
        "crawling through vantage points: a seed's vantage, and each capture's (copied)",
        """
        ALTER TABLE seeds ADD COLUMN via TEXT;
        ALTER TABLE schedules ADD COLUMN via TEXT;
        ALTER TABLE captures ADD COLUMN vantage TEXT;
        ALTER TABLE captures ADD COLUMN vantage_country TEXT;
        ALTER TABLE captures ADD COLUMN vantage_kind TEXT;
        ALTER TABLE captures ADD COLUMN vantage_egress TEXT;
        """,
    ),
    (
        15,
        "login profiles: a name, its hosts and its cookies' names (values only in the home);"
        " the profile a seed is crawled as, and each capture was made as",
        """
        CREATE TABLE profiles (
            name        TEXT PRIMARY KEY,
            hosts       TEXT NOT NULL,
            cookies     TEXT NOT NULL,
            note        TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL
        );
        ALTER TABLE seeds ADD COLUMN profile TEXT;
        ALTER TABLE captures ADD COLUMN profile TEXT;
        """,
    ),
    (
        16,
        "geo-difference: a seed's status timeline per vantage point ('' direct); an event's"
        " vantage and its evidence from each vantage; each comparison of a seed's vantages",
        """
        ALTER TABLE seed_status ADD COLUMN vantage TEXT NOT NULL DEFAULT '';
        UPDATE seed_status SET vantage = COALESCE(
            (SELECT c.vantage FROM captures c WHERE c.id = seed_status.capture_id), '');
        CREATE INDEX seed_status_vantage ON seed_status(seed_id, vantage, id);
        ALTER TABLE events ADD COLUMN vantage TEXT;
        ALTER TABLE events ADD COLUMN evidence TEXT;
        CREATE TABLE geo_comparisons (
            id          INTEGER PRIMARY KEY,
            seed_id     INTEGER NOT NULL REFERENCES seeds(id),
            compared_at TEXT NOT NULL,
            verdict     TEXT NOT NULL,
            states      TEXT NOT NULL,
            digests     TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX geo_comparisons_seed ON geo_comparisons(seed_id, id);
        """,
    ),
)
