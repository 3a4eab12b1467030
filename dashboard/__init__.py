"""voc dashboard (Streamlit)."""
