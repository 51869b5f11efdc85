"""A unit's configuration for its merchant (issue #18): ``profile`` (the expected settings, a TOML file per
merchant), ``compare`` (what the unit reports against them, in a technician's words). docs/unit-config.md."""
