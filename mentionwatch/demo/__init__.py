"""The offline demo: sample pages, a loopback server and the end-to-end run."""
