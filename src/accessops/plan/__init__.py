"""Actions, changes, the plan, the pure planner and safety guards."""
