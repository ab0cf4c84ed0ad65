"""The eval suite: deterministic evaluators and the runner behind `tailor eval`."""
