"""HTTP routers, one per resource. Each turns requests into calls of `domain` rules and
`storage`, and answers with the `blindvault.wire` models; routers never import each other."""
