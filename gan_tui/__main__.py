from gan_tui.cli import main

main()
