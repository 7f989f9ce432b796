// A flag that turns true once the app's first screen has been painted (lib/afterPaint): a screen renders what
// matters first (the primary action) and the long parts (lists of dozens of areas) in a later task, so no single
// start-up task holds a slow phone's main thread for long. Later mounts see it true almost at once.
import { onMounted, ref, type Ref } from 'vue'
import { afterPaint } from '@/lib/afterPaint'

export function useAfterFirstPaint(): Ref<boolean> {
  const painted = ref(false)
  onMounted(() => {
    void afterPaint().then(() => {
      painted.value = true
    })
  })
  return painted
}
