"""The Networks page and the network map: who is on which network, and who can reach whom."""
