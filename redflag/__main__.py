"""`python -m redflag`."""

from redflag.cli import main

main()
