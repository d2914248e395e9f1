"""seccomp for containers: Docker's default profile, user profiles, compiled once.

``profile`` reads Docker-format JSON profiles and evaluates their conditions,
``compiler`` turns the result into BPF through libseccomp, ``programs`` caches
the programs per profile and host. Loading a program into the kernel is the
container's last step before execve (engine/helper/runtime/syscallfilter.py).
"""
