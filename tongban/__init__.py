"""tongban (通办): an open platform on which government service centres run 一网通办."""

__version__ = "0.1.0"
