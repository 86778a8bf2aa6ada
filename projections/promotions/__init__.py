"""The promotions read model: every promotion of a tenant, its terms and its uses."""
