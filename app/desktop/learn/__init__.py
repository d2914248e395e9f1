"""The "What is this?" tab: the facts about a container, in plain words, and their view."""
