from retention_desk.cli import main

main()
