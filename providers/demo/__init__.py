"""The offline demo: an image provider that draws labelled, deterministic abstract pictures
("DEMO - not AI") and a trainer that walks the pipeline's stages, so the whole product runs with
no keys and no network."""
