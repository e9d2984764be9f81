"""Files shipped with pipecanvas: sample data (data/), the built canvas bundle (canvas/)."""
