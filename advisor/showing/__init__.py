"""Showing: the HTML report and its charts. Renders typed records; never trains."""
