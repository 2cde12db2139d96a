"""When things happen: periodic jobs that find what is due and hand it to services."""
