"""The admin console at `/console`: server-rendered pages (Jinja2) over the same services the API
uses, signed in with the API token into a signed session cookie. Sits beside `app/api`."""
