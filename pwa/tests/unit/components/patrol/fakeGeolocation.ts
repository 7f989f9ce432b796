// A scripted navigator.geolocation for the patrol store's tests: positions and errors when the test says so.
type Ok = PositionCallback
type Err = PositionErrorCallback

export class FakeGeolocation {
  watchers = new Map<number, { ok: Ok; err?: Err | null; opts?: PositionOptions }>()
  private n = 0
  watchPosition = (ok: Ok, err?: Err | null, opts?: PositionOptions) => {
    this.watchers.set(++this.n, { ok, err, opts })
    return this.n
  }
  clearWatch = (id: number) => {
    this.watchers.delete(id)
  }
  getCurrentPosition = () => undefined
  emit(lon: number, lat: number, t: number, accuracy = 5) {
    const pos = {
      timestamp: t,
      coords: { longitude: lon, latitude: lat, accuracy, speed: null, heading: null, altitude: null, altitudeAccuracy: null },
    } as unknown as GeolocationPosition
    for (const w of this.watchers.values()) w.ok(pos)
  }
  fail(code: number) {
    for (const w of this.watchers.values()) w.err?.({ code, message: `error ${code}` } as GeolocationPositionError)
  }
}

