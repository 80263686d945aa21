"""The page's labs: each a Viewer over the session store and one engine module; no lab imports another."""
