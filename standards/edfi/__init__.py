"""Ed-Fi Data Standard definitions: the generated model (v5p1/model.json.gz, loaded by standards.model.load_model)
and natural-key identifiers (identity.py). The API Profile XSDs in profiles/ are data files, not code."""
