//! The config.toml v1 model of Cairn.
