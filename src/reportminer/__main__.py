from reportminer.cli import main

main()
