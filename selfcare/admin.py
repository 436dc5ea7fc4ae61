# The self-care site has no tables of its own yet; it reads crm through selectors.
