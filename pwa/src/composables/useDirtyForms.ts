// Counts forms with unsaved input, so an app update never reloads over half-filled work.
import { computed, onBeforeUnmount, ref, watch, type Ref } from 'vue'

const dirtyForms = ref(0)

export function useDirtyForms() {
  return {
    dirtyForms,
    anyDirty: computed(() => dirtyForms.value > 0),
  }
}

/** Register a form: while `isDirty` is true it counts once; unmounting releases it. */
export function trackDirty(isDirty: Ref<boolean>): void {
  let counted = false
  const set = (v: boolean) => {
    if (v && !counted) dirtyForms.value++
    if (!v && counted) dirtyForms.value--
    counted = v
  }
  watch(isDirty, set, { immediate: true })
  onBeforeUnmount(() => set(false))
}
