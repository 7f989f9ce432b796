// Vant components that only the leader screens and the offline map use, with their CSS; imported where used so
// the shared registry (src/vant.ts) and the officer's bundle stay as they are.
import 'vant/es/calendar/style/index'
import 'vant/es/checkbox/style/index'
import 'vant/es/checkbox-group/style/index'
import 'vant/es/loading/style/index'
import 'vant/es/notice-bar/style/index'
import 'vant/es/progress/style/index'
import 'vant/es/stepper/style/index'
import 'vant/es/tab/style/index'
import 'vant/es/tabs/style/index'

export { Calendar, Checkbox, CheckboxGroup, Loading, NoticeBar, Progress, Stepper, Tab, Tabs } from 'vant'
