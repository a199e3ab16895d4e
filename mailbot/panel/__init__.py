"""The panel's own files: config.toml, the secrets beside it, and how staff files are read.

`settings` holds config.toml as typed, immutable sections; `secrets` reads the
environment and .env; `files` reads any TOML file staff write (UTF-8, syntax,
shape) into `Problem`s with file and line; `profiles` says which district and
age band a resident's postcode and birth year fall in. Nothing here touches
the database or the network, and nothing here knows about campaigns.
"""
