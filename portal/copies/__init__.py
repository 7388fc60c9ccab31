"""Certified electronic copies from the original register.

`keys` (the department's signing key and trust roots), `pdf` (render, merge, sign, check),
`worker` (the process those run in), `register` (what a verifier is told, and file checks),
`numbers` (register numbers, reserved before a copy is rendered).
Issuing is an operation: `portal.operations.copies`.
"""
