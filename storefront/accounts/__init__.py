"""Who is asking: signed-in shoppers and staff (sessions) and API tokens, and the checks
every page, API view and command makes against identity's roles and scopes."""
