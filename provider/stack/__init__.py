"""The stack program: specs + live listings -> resources. `program` (plan, restores, register),
`live` (the program's read-only listing), `previous` (this stack's own state), `restores`
(restores as reviewed changes), `snapshot` (saved listings for offline plans).

Layer: above the resource modules; may import them, `rules` and `_core`; imported only by `cli`
and the thin `provider.program` entry point.
"""
