"""munibond."""
