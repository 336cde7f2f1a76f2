"""A database backend for a development checkout with no database: every use says what to do instead."""
