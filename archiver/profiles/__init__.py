"""Login profiles: cookies of a signed-in browser, named once by the operator and sent
only to the hosts they are for, so that a capture shows what a signed-in person sees."""
