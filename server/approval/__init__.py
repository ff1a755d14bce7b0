"""开工一件事 and the approval domain: item catalogue, working-day clock, cases and their workflow."""
