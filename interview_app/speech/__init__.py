"""Voice: audio decoded and checked, speech recognised (a model server or offline), spoken text."""
