"""Wishlists: what each buyer keeps an eye on, and its queries. A product buyers cannot see
any more (not active, its seller not approved) drops out of the answer, and comes back if it
returns.

`projector` folds the log into the table `tables` defines, `queries` reads it within a tenant
scope."""
