"""What an environment costs: monthly estimates from list prices, per tier and per plan."""
