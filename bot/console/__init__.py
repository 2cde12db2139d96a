"""The Dinas's web console at /dinas: server-rendered pages over the same services as the chat.

One job per module: `app` assembles the Starlette sub-app from the page modules listed in
`pages`; `context` is what every page may use (the database boundary, settings, clock);
`guard` signs officers in per request and checks each form's CSRF token; `views` renders
Jinja2 templates; `signin` issues and redeems one-time links and sessions (no web library,
so the chat handler uses it too).
"""
