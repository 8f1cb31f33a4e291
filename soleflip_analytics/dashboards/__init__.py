"""Metabase dashboard templates as code: every card a native query on the analytics views.

``templates.DASHBOARDS`` holds the four dashboards; ``payloads`` turns them into
Metabase REST API bodies, ``validate`` checks them, ``export`` writes them to
files and ``push`` sends them to a running Metabase. ``commands.dashboards`` is
the ``soleflip-analytics dashboards`` command group.
"""
