from patas.cli import main

main()
