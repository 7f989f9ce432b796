"""Evidence (证据): photos with the phone's record at the shutter, their files, storage, integrity."""
