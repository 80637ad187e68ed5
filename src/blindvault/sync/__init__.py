"""Two-way folder sync (issue 14): a per-device SQLite index (`index`), a local scan
(`scan`), a pure three-way merge (`plan`), and the actions run through the public
`Vault` API (`apply`). The CLI (`blindvault sync`) sits above this package."""
