"""The Inspect, Ports and Volumes tabs: views of the container's inspect document."""
