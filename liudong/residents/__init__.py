"""Her own view (issue 19): a floating resident signs in as herself with an access code the
office holding her file gives her, reads her file, her certificate, her services and who
read her file, asks for corrections and downloads a copy of her data (PIPL arts. 44-46).

She is the actor :class:`liudong.actors.Resident`: every scoped read she makes goes through
``in_scope`` like a staff account's, and gives her the rows about her only.
"""
