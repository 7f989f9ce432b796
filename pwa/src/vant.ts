// Only the Vant components we use (keeps the bundle and the legacy build small), with their CSS. The tab bar's and
// the nav bar's CSS are here for components/layout/AppTabbar.vue and AppNavBar.vue, which draw them without Vant's
// components.
import type { App } from 'vue'
import {
  Button, Cell, CellGroup, Dialog, Empty, Field, Form, Grid, GridItem, Icon, Notify, Popup, Radio,
  RadioGroup, Switch, Tag, Toast,
} from 'vant'
import 'vant/es/style/base.css'
import 'vant/es/button/style/index'
import 'vant/es/cell/style/index'
import 'vant/es/cell-group/style/index'
import 'vant/es/dialog/style/index'
import 'vant/es/empty/style/index'
import 'vant/es/field/style/index'
import 'vant/es/form/style/index'
import 'vant/es/grid/style/index'
import 'vant/es/grid-item/style/index'
import 'vant/es/icon/style/index'
import 'vant/es/nav-bar/style/index'
import 'vant/es/notify/style/index'
import 'vant/es/popup/style/index'
import 'vant/es/radio/style/index'
import 'vant/es/radio-group/style/index'
import 'vant/es/switch/style/index'
import 'vant/es/tabbar/style/index'
import 'vant/es/tabbar-item/style/index'
import 'vant/es/tag/style/index'
import 'vant/es/toast/style/index'

const components = [
  Button, Cell, CellGroup, Dialog, Empty, Field, Form, Grid, GridItem, Icon, Notify, Popup, Radio,
  RadioGroup, Switch, Tag, Toast,
]

export function installVant(app: App): void {
  for (const c of components) app.use(c)
}
