"""Sign in with a username and password. Admins create accounts; docs/ui.md says how the first admin is made."""

from __future__ import annotations

from tailor.web.session import sign_in_form

sign_in_form()
