"""The studio (Streamlit) and the ``pipecanvas`` command line; both call the runtime's API."""
