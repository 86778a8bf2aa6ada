"""The organisations read model: Seller Pro businesses and the marketplaces each joined."""
