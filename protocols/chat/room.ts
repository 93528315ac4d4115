// Room names, apart from the codec: the CLI checks them without loading libp2p's key code.
import { MAX_ROOM_LENGTH, ROOM_PATTERN } from './constants.ts'
import { InvalidRoomError } from './errors.ts'

/** Throws InvalidRoomError unless `room` can name a topic. */
export function checkRoom (room: string): string {
  if (room.length === 0 || room.length > MAX_ROOM_LENGTH) throw new InvalidRoomError(`a room name has 1 to ${MAX_ROOM_LENGTH} characters`)
  if (!ROOM_PATTERN.test(room)) throw new InvalidRoomError(`room "${room}" may use only letters, digits, ".", "_" and "-", and starts with a letter or digit`)
  return room
}
