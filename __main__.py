"""Stack program: the desired status of CodeArtifact package versions, declared in specs/.

See provider/stack/program.py for what happens (validate specs, read live versions read-only, expand
rules, safety checks, register resources) and docs/specs.md for the spec format.
"""

from provider.program import main

main()
