"""Package discovery, the one thing pyproject.toml cannot say declaratively here.

The top-level folders spiders/, settings/ and storage/ are installed as
archiver.spiders, archiver.settings and archiver.storage, so the distribution never puts
generic top-level modules into site-packages. Every package under those folders and
under archiver/ is found, so a new subpackage cannot be left out of a wheel.
"""

from setuptools import find_packages, setup

MAPPED = ("spiders", "settings", "storage")  # installed under archiver.

packages = find_packages(include=["archiver", "archiver.*"])
package_dir = {"archiver": "archiver"}
for folder in MAPPED:
    packages += [f"archiver.{name}" for name in find_packages(include=[folder, f"{folder}.*"])]
    package_dir[f"archiver.{folder}"] = folder

setup(packages=packages, package_dir=package_dir)
