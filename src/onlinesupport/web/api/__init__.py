"""The JSON API (/api/v1/): desk handlers with another door.

The handlers call the same services the desk pages call; API tokens (or a desk session with its
CSRF token) authenticate instead of sign-in cookies. Each operation is declared once in
`routes.py` with its schemas; the route table and the OpenAPI document are both built from
those declarations, so they cannot drift apart.
"""
