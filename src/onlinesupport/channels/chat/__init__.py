"""Website chat: the visitor protocol behind the widget, widget settings, agent presence."""
